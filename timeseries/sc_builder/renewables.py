"""Wind and PV fleets (generator rows) and their hourly availability (p_max_pu).

Inputs: ``wind_fleets.csv``, ``pv_fleets.csv`` (row order = generator order), ``regions.csv`` (provincial
wind and PV MW), ``buses.csv`` (coordinates for the sun's path) and the monthly PV clearness and wind
speed factors of ``monthly_profiles.csv``. Each fleet's series is scaled so that its annual capacity factor
equals ``cf_target``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .common import HOURS, SEED, SNAPSHOTS, Inputs, ar1, bisect, hourly_frame, month_index, monthly

TERRAIN_TEXT = {"plateau": "plateau/mountain", "basin": "basin"}
CLOUD_SIGMA = {"basin": 0.45, "plateau": 0.30}   # day-to-day cloudiness spread; basin fog varies more, EST
CLOUD_PHI = 0.6             # persistence of daily cloudiness
CLOUD_SHARED = 0.75         # weight of the weather shared by all fleets of one terrain
HOURLY_NOISE = 0.08         # relative hour-to-hour noise of PV output
WIND_PHI = 0.985            # hour-to-hour persistence of the wind components
WIND_SHARED = 0.6           # weight of the weather shared by all wind fleets
WIND_DIURNAL = 0.08         # relative diurnal swing, peaking at 02:00 (stronger at night), EST
CUT_IN, RATED, CUT_OUT = 3.0, 12.0, 25.0   # m/s, generic turbine power curve


def region_total(inp: Inputs, zone: str, column: str) -> float:
    regions = inp["regions"].set_index("region")
    return float(regions.at[inp.region_of_zone(zone), column])


def _fleet_rows(inp: Inputs, table: str, carrier: str, total_column: str, kind) -> list[dict]:
    """One fleet per zone: p_nom = the provincial total x share_of_region; `kind(row)` names the fleet."""
    rows = []
    for f in inp[table].itertuples(index=False):
        total = region_total(inp, f.zone, total_column)
        text = (f"{kind(f)} fleet, {f.share_of_region:.0%} of the provincial total EST; "
                f"CF target {f.cf_target:.2f}")
        rows.append(dict(name=f"{f.zone}_{carrier}", bus=f.zone, carrier=carrier,
                         p_nom=round(total * f.share_of_region, 1), build_year=0, description=text))
    return rows


def wind_rows(inp: Inputs) -> list[dict]:
    return _fleet_rows(inp, "wind_fleets", "wind", "wind_mw", lambda f: "onshore wind")


def pv_rows(inp: Inputs) -> list[dict]:
    return _fleet_rows(inp, "pv_fleets", "pv", "pv_mw", lambda f: f"{TERRAIN_TEXT[f.terrain]} PV")


def solar_clear_sky(lon: float, lat: float) -> np.ndarray:
    """Hour-mean clear-sky shape: sin(solar elevation)^1.2 at mid-hour, local clock = UTC+8."""
    t = np.arange(HOURS) + 0.5
    doy = t / 24.0 + 1.0
    decl = np.radians(23.45) * np.sin(2 * np.pi * (284 + doy) / 365.0)
    b = 2 * np.pi * (doy - 81) / 364.0
    eot_min = 9.87 * np.sin(2 * b) - 7.53 * np.cos(b) - 1.5 * np.sin(b)
    solar_time = (t % 24.0) + (lon - 120.0) / 15.0 + eot_min / 60.0
    h = np.radians(15.0 * (solar_time - 12.0))
    phi = np.radians(lat)
    sin_el = np.sin(phi) * np.sin(decl) + np.cos(phi) * np.cos(decl) * np.cos(h)
    return np.clip(sin_el, 0.0, None) ** 1.2


def pv_profile(rng: np.random.Generator, clear: np.ndarray, shared: np.ndarray, sigma: float,
               month_shape: np.ndarray, cf_target: float) -> np.ndarray:
    """p_max_pu = min(1, c x clear sky x daily log-normal cloudiness x monthly clearness x hourly noise),
    with c chosen so that the mean equals ``cf_target``."""
    z_day = CLOUD_SHARED * shared + math.sqrt(1 - CLOUD_SHARED ** 2) * ar1(rng, 365, CLOUD_PHI)
    cloud_day = np.exp(sigma * z_day - 0.5 * sigma * sigma)
    hourly = 1.0 + HOURLY_NOISE * ar1(rng, HOURS, 0.7)
    base = clear * np.repeat(cloud_day, 24) * month_shape * np.clip(hourly, 0.6, 1.4)
    base = np.where(clear > 0, base, 0.0)
    c = bisect(lambda cc: np.minimum(cc * base, 1.0).mean(), 0.01, 50.0, cf_target)
    return np.round(np.minimum(c * base, 1.0), 3)


def build_pv(inp: Inputs, gens: pd.DataFrame, info: dict) -> pd.DataFrame:
    rng = np.random.default_rng(SEED + 1)
    buses = inp["buses"].set_index("name")
    fleets = inp["pv_fleets"].set_index("zone")
    shared = {"basin": ar1(rng, 365, CLOUD_PHI), "plateau": ar1(rng, 365, CLOUD_PHI)}
    m = month_index()
    out = {}
    for g in gens[gens.carrier == "pv"].itertuples(index=False):
        terrain = fleets.at[g.bus, "terrain"]
        clear = solar_clear_sky(buses.at[g.bus, "lon_deg"], buses.at[g.bus, "lat_deg"])
        month_shape = np.array(monthly(inp, f"pv_clearness_{terrain}"))[m]
        out[g.name] = pv_profile(rng, clear, shared[terrain], CLOUD_SIGMA[terrain], month_shape,
                                 fleets.at[g.bus, "cf_target"])
    df = hourly_frame(out)
    info["pv_cf"] = df.mean().round(4).to_dict()
    return df


def wind_power(v: np.ndarray) -> np.ndarray:
    """Power curve (pu): cubic between cut-in and rated speed, 1 up to cut-out, 0 beyond."""
    p = np.clip((v ** 3 - CUT_IN ** 3) / (RATED ** 3 - CUT_IN ** 3), 0.0, 1.0)
    return np.where(v > CUT_OUT, 0.0, p)


def wind_profile(rng: np.random.Generator, shared_x: np.ndarray, shared_y: np.ndarray,
                 month_factor: np.ndarray, diurnal: np.ndarray, cf_target: float) -> np.ndarray:
    """Wind speed = scale x Rayleigh magnitude of two AR(1) components x monthly factor x diurnal factor,
    with the scale chosen so that the mean power equals ``cf_target``."""
    a = WIND_SHARED
    x = a * shared_x + math.sqrt(1 - a * a) * ar1(rng, HOURS, WIND_PHI)
    y = a * shared_y + math.sqrt(1 - a * a) * ar1(rng, HOURS, WIND_PHI)
    mag = np.sqrt(0.5 * (x * x + y * y))       # Rayleigh with unit mean square
    shape = mag * month_factor * diurnal
    s = bisect(lambda ss: wind_power(ss * shape).mean(), 1.0, 40.0, cf_target)
    return np.round(wind_power(s * shape), 3)


def build_wind(inp: Inputs, gens: pd.DataFrame, info: dict) -> pd.DataFrame:
    rng = np.random.default_rng(SEED + 2)
    m = month_index()
    hod = SNAPSHOTS.hour.to_numpy()
    cf = inp["wind_fleets"].set_index("zone").cf_target
    shared_x, shared_y = ar1(rng, HOURS, WIND_PHI), ar1(rng, HOURS, WIND_PHI)
    month_factor = np.array(monthly(inp, "wind_speed_factor"))[m]
    diurnal = 1.0 + WIND_DIURNAL * np.cos(2 * np.pi * (hod - 2) / 24.0)
    out = {}
    for g in gens[gens.carrier == "wind"].itertuples(index=False):
        out[g.name] = wind_profile(rng, shared_x, shared_y, month_factor, diurnal, cf[g.bus])
    df = hourly_frame(out)
    info["wind_cf"] = df.mean().round(4).to_dict()
    return df
