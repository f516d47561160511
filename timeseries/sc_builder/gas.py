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
    """Storage rates per hour from the daily withdrawal rate; inventories as shares of working gas; one
    withdrawal cost for all (without it injection and withdrawal at once cost nothing, and the LP's
    choice between them is arbitrary)."""
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
                         cost_cny_per_kcm=inp.fig.ugs_withdrawal_cost_cny_per_kcm, build_year=s.build_year))
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


def delivered_cost(tables: dict[str, pd.DataFrame]) -> dict[str, float]:
    """Cheapest cost of gas at each node (CNY/1000 m3): a local supply, or a neighbour's cost plus the
    pipeline tariff, divided by the pipeline efficiency (shortest paths, Bellman-Ford)."""
    sup = tables["gas_supplies"]
    cost = {n: np.inf for n in tables["gas_nodes"].name}
    for s in sup.itertuples(index=False):
        cost[s.node] = min(cost[s.node], s.cost_cny_per_kcm)
    arcs = []
    for p in tables["pipelines"].itertuples(index=False):
        arcs.append((p.node0, p.node1, p.cost_cny_per_kcm, p.efficiency))
        if p.capacity_reverse_mm3_per_h > 0:
            arcs.append((p.node1, p.node0, p.cost_cny_per_kcm, p.efficiency))
    for _ in range(len(cost)):
        for a, b, tariff, eff in arcs:
            cost[b] = min(cost[b], (cost[a] + tariff) / eff)
    return cost


def check_power_gas_price(inp: Inputs, tables: dict[str, pd.DataFrame]) -> dict[str, float]:
    """Gas at every power plant's node must cost the power-plant price (fuel_price x LHV) within the
    tolerance of the figures, so the gas network and the fixed fuel_price tell the same story."""
    f = inp.fig
    target = f.gas_price_power_cny_per_gj * f.gas_lhv_gj_per_kcm
    cost = delivered_cost(tables)
    used = sorted(set(tables["generators"].gas_node.dropna()) - {""})
    for n in used:
        assert abs(cost[n] / target - 1) <= f.gas_delivered_tolerance, \
            f"gas at {n} costs {cost[n]:.0f} CNY/1000 m3, the power-plant price is {target:.0f}"
    return {n: round(cost[n], 1) for n in used}


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
