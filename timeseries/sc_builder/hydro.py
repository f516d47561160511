"""Hydro: reservoir stations and their water balance inputs, run-of-river fleets, pumped storage.

Inputs: ``reservoir_stations.csv``, ``hydro_plants.csv``, ``pumped_storage.csv``, ``regions.csv``
(reported hydro capacity), GEM hydro units, ``dams_sc_region.csv`` (water use), ``dam_cascade_links.csv``,
``hydro_monthly_availability_pik.csv`` and the rule-curve columns of ``monthly_profiles.csv``.
Units: MW, m3/s, hm3, TWh, hours.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .common import (
    HOURS,
    SEED,
    Inputs,
    ar1,
    daily_to_hourly,
    hourly_frame,
    mid_month_curve,
    monthly,
    monthly_anchor_curve,
)

BORDER_BUS_PREFIX = "JS_"       # Jinsha stations on the Sichuan-Yunnan border ...
BORDER_REPORTED_SHARE = 0.5     # ... count half in Sichuan's reported hydro capacity
UNMAPPED_SICHUAN_ZONE = "SI_?"  # GEM units in Sichuan without a zone: spread over the zones pro rata
GAP_WEIGHT_OFFSET_MW = 300.0    # the capacity gap also reaches zones with little GEM hydro, EST
ROR_SIGMA = 0.10                # daily log-normal noise of run-of-river availability, EST
ROR_MIN_PU = 0.03               # floor of run-of-river availability, EST
INFLOW_SIGMA = 0.15             # daily log-normal noise of natural inflows, EST
INFLOW_PHI = 0.85               # day-to-day persistence of that noise
RIVER_WEIGHT, OWN_WEIGHT = 0.8, 0.6   # noise shared along a river and station-specific (variances add to 1)
FLOW_MODES = (("energy_twh", "energy_twh"), ("flow_mean_m3s", "q_mean"), ("flow_increment_m3s", "incr"))


# ------------------------------------------------------------------------------------ reservoirs
def upstream_of(stations: pd.DataFrame) -> dict[str, list[str]]:
    up: dict[str, list[str]] = {}
    for s in stations.itertuples(index=False):
        if s.downstream:
            up.setdefault(s.downstream, []).append(s.name)
    return up


def upstream_first(stations: pd.DataFrame, upstream: dict[str, list[str]]) -> list[str]:
    """Station names ordered so that every station comes after all stations upstream of it."""
    order: list[str] = []
    done: set[str] = set()

    def visit(n: str) -> None:
        if n in done:
            return
        for u in upstream.get(n, []):
            visit(u)
        done.add(n)
        order.append(n)

    for n in stations.name:
        visit(n)
    return order


def production_coefficient(s: pd.Series, water: pd.Series) -> tuple[float, str]:
    """k in MW per m3/s: 3.6 / water use (m3/kWh) from the dams file, else 9.81 * 0.9 * head / 1000."""
    if s["dam"]:
        return 3.6 / float(water[s["dam"]]), "dams file"
    return 9.81 * 0.9 * s["head_m"] / 1000.0, f"head {s['head_m']:g} m EST"


def mean_flow(s: pd.Series, k: float, up_q: float) -> tuple[str, float]:
    """Mean turbined flow (m3/s) from exactly one of: annual energy E (q = E / (k * 8760 h)), a total mean
    flow, or an increment on the upstream stations' mean flow."""
    given = [(mode, s[col]) for col, mode in FLOW_MODES if not pd.isna(s[col])]
    assert len(given) == 1, f"reservoir_stations.csv: {s['name']} needs exactly one of the flow columns"
    mode, value = given[0]
    if mode == "energy_twh":
        return mode, value * 1e6 / (k * HOURS)
    if mode == "q_mean":
        return mode, float(value)
    return mode, up_q + float(value)


def reservoir_flows(inp: Inputs) -> pd.DataFrame:
    """Production coefficient, mean flow, natural increment (at least ``flow_increment_min_m3s``) and
    implied energy (TWh) per reservoir station, in file order."""
    stations = inp["reservoir_stations"]
    water = inp["dams_sc_region"].set_index("dam")["water_consumption_m3_per_kwh_avg"]
    upstream = upstream_of(stations)
    spec = stations.set_index("name", drop=False)
    recs: dict[str, dict] = {}
    for n in upstream_first(stations, upstream):
        s = spec.loc[n]
        k, k_src = production_coefficient(s, water)
        up_q = sum(recs[u]["q_mean"] for u in upstream.get(n, []))
        mode, q = mean_flow(s, k, up_q)
        incr = max(q - up_q, inp.fig.flow_increment_min_m3s)
        q = up_q + incr
        recs[n] = dict(k=k, k_src=k_src, q_mean=q, incr=incr, energy_twh=k * q * HOURS / 1e6, mode=mode)
    return pd.DataFrame.from_dict(recs, orient="index").loc[list(stations.name)]


def rule_share(inp: Inputs, rule: str, key: str) -> list[float]:
    """Monthly rule-curve values (share of the regulating volume) of a ``seasonal`` or ``daily`` rule."""
    return monthly(inp, f"rule_{rule}_{key}_share")


def build_reservoirs(inp: Inputs) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reservoir table: dead pool = volume_max - regulating volume; start at the January target;
    eco-flow minimum = ``eco_flow_share_of_mean`` x mean flow."""
    flows = reservoir_flows(inp)
    rows = []
    for s in inp["reservoir_stations"].itertuples(index=False):
        f = flows.loc[s.name]
        vmin = s.volume_max_hm3 - s.volume_regulating_hm3
        target_jan = rule_share(inp, s.rule_curve, "target")[0]
        rows.append(dict(name=s.name, bus=s.bus, river=s.river, p_nom=float(s.p_nom_mw),
                         production_mw_per_m3s=round(f.k, 4), volume_min_hm3=float(vmin),
                         volume_max_hm3=float(s.volume_max_hm3),
                         volume_initial_hm3=round(vmin + target_jan * s.volume_regulating_hm3, 1),
                         eco_flow_min_m3s=round(inp.fig.eco_flow_share_of_mean * f.q_mean, 1),
                         downstream=s.downstream, delay_hours=int(s.delay_h), build_year=int(s.build_year)))
    return pd.DataFrame(rows), flows


def check_cascade(inp: Inputs, res: pd.DataFrame) -> None:
    """Every upstream->downstream pair of the public cascade file with both dams in the case must be
    joined by our ``downstream`` chain."""
    names = set(res.name)
    down = dict(zip(res.name, res.downstream, strict=True))
    for c in inp["dam_cascade_links"].itertuples(index=False):
        if c.upstream_dam not in names or c.downstream_dam not in names:
            continue
        a, b = c.upstream_dam, c.downstream_dam
        seen = []
        while a and a != b and a not in seen:
            seen.append(a)
            a = down.get(a, "")
        assert a == b, f"cascade order disagrees with the input pair {c.upstream_dam}->{c.downstream_dam}"


# ------------------------------------------------------------------------------------ hydro fleets
def hydro_targets(inp: Inputs) -> dict[str, float]:
    """Hydro capacity (MW) each region's zones must reach, reservoirs included.

    Sichuan's reported figure counts the Jinsha border stations and the border plants of
    ``hydro_plants.csv`` at their ``sichuan_reported_share``; those are modelled on their own buses.
    """
    st = inp["reservoir_stations"]
    border_res = st.p_nom_mw[st.bus.str.startswith(BORDER_BUS_PREFIX)].sum()
    plants = inp["hydro_plants"]
    border_plants = (plants.p_nom_mw * plants.sichuan_reported_share).sum()
    targets = dict(zip(inp["regions"].region, inp["regions"].hydro_reported_mw.astype(float), strict=True))
    targets["Sichuan"] = targets["Sichuan"] - BORDER_REPORTED_SHARE * border_res - border_plants
    return targets


def gem_run_of_river(inp: Inputs) -> pd.Series:
    """GEM hydro MW per zone, without the plants modelled as reservoirs or in ``hydro_plants.csv``."""
    gem = inp["gem_plants_by_zone"]
    hyd = gem[gem.type == "hydro"].copy()
    hyd["short"] = hyd.plant.str.replace(" hydroelectric plant", "", regex=False)
    modelled = set(inp["reservoir_stations"].gem_name) | set(inp["hydro_plants"].gem_name)
    hyd = hyd[~hyd.short.isin(modelled - {""})]
    return hyd.groupby("zone").MW.sum()


def run_of_river_rows(inp: Inputs, info: dict) -> list[dict]:
    """One run-of-river fleet per zone: GEM capacity plus a share of the gap between the region's target
    and GEM + reservoirs, shared in proportion to (GEM MW + ``GAP_WEIGHT_OFFSET_MW``)."""
    ror = gem_run_of_river(inp)
    unmapped = ror.pop(UNMAPPED_SICHUAN_ZONE) if UNMAPPED_SICHUAN_ZONE in ror else 0.0
    st = inp["reservoir_stations"]
    res_by_zone = st.groupby("bus", sort=False).p_nom_mw.sum()
    info["ror_gem"] = ror.to_dict()
    rows = []
    for region, target in hydro_targets(inp).items():
        zones = inp.zones(region)
        base = pd.Series({z: float(ror.get(z, 0.0)) for z in zones})
        if region == "Sichuan":
            base += unmapped * base / base.sum()
        res_mw = sum(res_by_zone.get(z, 0.0) for z in zones)
        gap = target - res_mw - base.sum()
        weight = base + GAP_WEIGHT_OFFSET_MW
        add = gap * weight / weight.sum()
        info[f"ror_gap_{region}"] = gap
        info[f"hydro_internal_{region}"] = target
        for z in zones:
            text = (f"run-of-river and small hydro not modelled as reservoirs: GEM {base[z]:.0f} MW "
                    f"+ {add[z]:.0f} MW EST share of the gap to the provincial total")
            rows.append(dict(name=f"{z}_hydro", bus=z, carrier="hydro", p_nom=round(base[z] + add[z], 1),
                             build_year=0, description=text))
    return rows


def plant_group_rows(inp: Inputs) -> list[dict]:
    """One generator per group of ``hydro_plants.csv``: p_nom = sum of p_nom_mw x modelled_share."""
    rows = []
    plants = inp["hydro_plants"]
    for name in plants.generator.unique():
        g = plants[plants.generator == name]
        for col in ("bus", "build_year", "generator_description"):
            assert g[col].nunique() == 1, f"hydro_plants.csv: {name} has more than one {col}"
        p_nom = float((g.p_nom_mw * g.modelled_share).sum())
        rows.append(dict(name=name, bus=g.bus.iloc[0], carrier="hydro", p_nom=p_nom,
                         build_year=int(g.build_year.iloc[0]), description=g.generator_description.iloc[0]))
    return rows


def hydro_shape(avail: np.ndarray, rng: np.random.Generator, sigma: float, phi: float = 0.85) -> np.ndarray:
    """Hourly availability through the monthly means with a smooth daily log-normal noise, mean preserved."""
    base = mid_month_curve(list(avail))
    noise = np.exp(sigma * ar1(rng, 366, phi) - 0.5 * sigma * sigma)
    return base * daily_to_hourly(noise)


def build_hydro_pmax(inp: Inputs, gens: pd.DataFrame, info: dict) -> pd.DataFrame:
    """p_max_pu of the run-of-river fleets: the monthly availability with daily noise, rescaled to the
    annual mean availability and clipped to [``ROR_MIN_PU``, 1]."""
    rng = np.random.default_rng(SEED + 3)
    avail = inp["hydro_monthly_availability_pik"]["mean_p_max_pu"].to_numpy()
    out = {}
    for name in gens.name[gens.carrier == "hydro"]:
        s = hydro_shape(avail, rng, ROR_SIGMA)
        s = s * avail.mean() / s.mean()
        out[name] = np.round(np.clip(s, ROR_MIN_PU, 1.0), 3)
    df = hourly_frame(out)
    info["ror_cf"] = df.mean().round(4).to_dict()
    return df


# ------------------------------------------------------------------------------------ series
def build_inflows(inp: Inputs, res: pd.DataFrame, flows: pd.DataFrame, info: dict) -> pd.DataFrame:
    """Incremental natural inflow (m3/s) = mean increment x monthly availability shape x daily log-normal
    noise (partly shared along the river), renormalised to mean 1."""
    rng = np.random.default_rng(SEED + 4)
    avail = inp["hydro_monthly_availability_pik"]["mean_p_max_pu"].to_numpy()
    rivers: dict[str, np.ndarray] = {}
    out = {}
    for r in res.itertuples(index=False):
        if r.river not in rivers:
            rivers[r.river] = ar1(rng, 366, INFLOW_PHI)
        z = RIVER_WEIGHT * rivers[r.river] + OWN_WEIGHT * ar1(rng, 366, INFLOW_PHI)
        noise = daily_to_hourly(np.exp(INFLOW_SIGMA * z - 0.5 * INFLOW_SIGMA * INFLOW_SIGMA))
        shape = mid_month_curve(list(avail)) * noise
        shape = shape / shape.mean()
        out[r.name] = np.round(flows.at[r.name, "incr"] * shape, 1)
    df = hourly_frame(out)
    implied_energy(res, df, info)
    return df


def implied_energy(res: pd.DataFrame, inflow: pd.DataFrame, info: dict) -> None:
    """Energy (TWh) of each station at constant head: k x total flow, and the same capped at p_nom."""
    total: dict[str, np.ndarray] = {}
    ups = res.groupby("downstream").name.apply(list).to_dict()

    def tot(n: str) -> np.ndarray:
        if n not in total:
            total[n] = inflow[n].to_numpy() + sum((tot(u) for u in ups.get(n, [])), np.zeros(HOURS))
        return total[n]

    spec = res.set_index("name")
    e_mean, e_cap = {}, {}
    for n in res.name:
        k = spec.at[n, "production_mw_per_m3s"]
        p = spec.at[n, "p_nom"]
        e_mean[n] = k * tot(n).mean() * HOURS / 1e6
        e_cap[n] = np.minimum(k * tot(n), p).sum() / 1e6
    info["hydro_energy_mean_twh"] = e_mean
    info["hydro_energy_capped_twh"] = e_cap


def build_rule_curves(inp: Inputs, res: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Volume bounds and target (hm3) = dead pool + regulating volume x rule share, the shares anchored at
    the first hour of each month and linear in between."""
    rule_of = dict(zip(inp["reservoir_stations"].name, inp["reservoir_stations"].rule_curve, strict=True))
    out: dict[str, dict[str, np.ndarray]] = {"volume_min_rule_hm3": {}, "volume_max_rule_hm3": {},
                                             "volume_target_hm3": {}}
    for r in res.itertuples(index=False):
        reg = r.volume_max_hm3 - r.volume_min_hm3
        for key, series in (("min", "volume_min_rule_hm3"), ("max", "volume_max_rule_hm3"),
                            ("target", "volume_target_hm3")):
            share = rule_share(inp, rule_of[r.name], key)
            out[series][r.name] = np.round(r.volume_min_hm3 + reg * monthly_anchor_curve(share), 2)
    return {k: hourly_frame(v) for k, v in out.items()}


# ------------------------------------------------------------------------------------ pumped storage
def build_storage_units(inp: Inputs) -> pd.DataFrame:
    """Pumped storage: same efficiency each way, cyclic state of charge."""
    eff = inp.fig.phs_efficiency
    return pd.DataFrame([dict(name=u.name, bus=u.bus, carrier="phs", p_nom=float(u.p_nom_mw),
                              max_hours=float(u.max_hours_h), efficiency_store=eff, efficiency_dispatch=eff,
                              cyclic_state_of_charge=True, build_year=u.build_year)
                         for u in inp["pumped_storage"].itertuples(index=False)])
