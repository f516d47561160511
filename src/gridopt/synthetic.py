"""Synthetic networks of any size, for benchmarks and tests.

`synthetic_network(n_buses, hours, seed)` builds a meshed grid in two regions whose size scales with the
number of buses, the units per bus and the hours. The same arguments always give the same network:
every random draw comes from one ``numpy.random.default_rng(seed)`` in a fixed order.

What each bus holds (counts per bus are the ``sizes`` keywords):

- a firm and an interruptible load (MW) with a daily two-peak shape, a weekend dip and noise;
- committable coal (clustered commitment, minimum stable level, ramp limits, start-up cost);
- gas (flexible, fixed fuel price; no gas network);
- PV with a day/night availability shape scaled by a daily cloudiness draw;
- a reservoir hydro station; consecutive reservoirs form cascades (downstream, travel delay in hours);
- pumped storage (cyclic state of charge).

The AC grid is a ring through all buses plus random chords, on one voltage level (500 kV), with random
reactances (ohm) and ratings (MW); one HVDC link joins the two regions. Buses ``0 .. n/2 - 1`` are in
region North, the rest in South. Every case is feasible whatever the draws: load shedding is priced but
always available, spill is unlimited, and commitment, ramp and reserve rows can always be met.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .network import Network

REGIONS = ("North", "South")

DEFAULT_SIZES: dict[str, Any] = {
    "coal_per_bus": 1,  # committable coal units per bus
    "gas_per_bus": 1,  # gas units per bus
    "pv_per_bus": 1,  # PV plants per bus
    "reservoirs_per_bus": 1,  # reservoir hydro stations per bus
    "storage_per_bus": 1,  # pumped-storage plants per bus
    "chords": None,  # extra AC lines beyond the ring (None: n_buses // 2)
    "cascade_length": 3,  # reservoirs per cascade chain (1: no cascades)
    "mean_load_mw": 700.0,  # average load per bus (firm + interruptible)
    "start": "2025-01-01 00:00",  # first snapshot
}


def synthetic_network(n_buses: int, hours: int, seed: int = 0, **sizes: Any) -> Network:
    """A feasible meshed two-region network with `n_buses` buses and `hours` hourly snapshots.

    ``sizes`` override `DEFAULT_SIZES` (units of each kind per bus, number of chords, cascade length,
    mean load per bus in MW, first snapshot). Deterministic for a given seed and sizes.
    """
    unknown = set(sizes) - set(DEFAULT_SIZES)
    if unknown:
        raise TypeError(f"unknown size option(s): {', '.join(sorted(unknown))} (expected {', '.join(DEFAULT_SIZES)})")
    if n_buses < 2:
        raise ValueError("a synthetic network needs at least 2 buses")
    if hours < 1:
        raise ValueError("hours must be positive")
    opt = {**DEFAULT_SIZES, **sizes}
    rng = np.random.default_rng(seed)
    snaps = pd.date_range(pd.Timestamp(opt["start"]), periods=hours, freq="h", name="snapshot")
    buses = [f"bus{i:04d}" for i in range(n_buses)]
    region = [REGIONS[0] if i < max(1, n_buses // 2) else REGIONS[1] for i in range(n_buses)]

    tables: dict[str, pd.DataFrame] = {
        "buses": pd.DataFrame({"name": buses, "region": region, "v_nom": 500.0}),
        "lines": _lines(rng, n_buses, buses, opt["chords"]),
        "links": pd.DataFrame([{"name": "hvdc_north_south", "bus0": buses[0], "bus1": buses[-1],
                                "p_nom": 1000.0, "p_min_pu": -1.0, "efficiency": 0.97, "carrier": "DC"}]),
    }
    gens, gen_series = _generators(rng, snaps, buses, opt)
    tables["generators"] = gens
    tables["reservoirs"], inflow, target = _reservoirs(rng, snaps, buses, opt)
    tables["storage_units"] = _storage(rng, buses, opt)
    firm, interruptible = _loads(rng, snaps, buses, float(opt["mean_load_mw"]))

    series = {"load_firm_mw": firm, "load_interruptible_mw": interruptible, "p_max_pu": gen_series,
              "inflow_m3s": inflow, "volume_target_hm3": target}
    config = {"name": f"synthetic_{n_buses}x{hours}_s{seed}",
              "description": f"synthetic meshed network: {n_buses} buses, {hours} h, seed {seed}",
              "year": 2025, "timeseries_start": str(snaps[0]), "hours": hours, "carbon_price": 80.0,
              "regions": list(REGIONS), "interchange": list(REGIONS),
              "reserves": {REGIONS[0]: 0.05, REGIONS[1]: 0.05}}
    tables = {k: v for k, v in tables.items() if len(v)}
    series = {k: v for k, v in series.items() if v.shape[1]}
    return Network.from_tables(config, tables, series)


def _lines(rng: np.random.Generator, n: int, buses: list[str], chords: int | None) -> pd.DataFrame:
    """A ring through every bus plus random chords between non-adjacent buses (no duplicates)."""
    pairs = [(i, (i + 1) % n) for i in range(n)] if n > 2 else [(0, 1)]
    seen = {tuple(sorted(p)) for p in pairs}
    want = n // 2 if chords is None else int(chords)
    possible = n * (n - 1) // 2 - len(seen)
    want = min(want, possible)
    extra: list[tuple[int, int]] = []
    while len(extra) < want:
        a, b = (int(v) for v in rng.integers(0, n, size=2))
        key = (min(a, b), max(a, b))
        if a == b or key in seen:
            continue
        seen.add(key)
        extra.append(key)
    pairs += extra
    m = len(pairs)
    length = rng.uniform(60.0, 300.0, m)  # km
    x = length * rng.uniform(0.25, 0.32, m)  # ohm (about 0.28 ohm/km at 500 kV)
    s_nom = rng.choice([1000.0, 1500.0, 2000.0, 2500.0], size=m)  # MW
    return pd.DataFrame({"name": [f"line{k:05d}" for k in range(m)],
                         "bus0": [buses[a] for a, _ in pairs], "bus1": [buses[b] for _, b in pairs],
                         "x": x, "s_nom": s_nom, "length_km": length})


def _daily(snaps: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    hod = snaps.hour.to_numpy().astype(float)
    day = np.asarray((snaps - snaps[0]).days)
    weekend = snaps.day_of_week.to_numpy() >= 5
    return hod, day, weekend


def _loads(rng: np.random.Generator, snaps: pd.DatetimeIndex, buses: list[str],
           mean_mw: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Firm and interruptible load (MW): two daily peaks (11:00, 19:00), a weekend dip, 3 % noise."""
    hod, _, weekend = _daily(snaps)
    shape = (0.78 + 0.14 * np.exp(-0.5 * ((hod - 11.0) / 2.5) ** 2)
             + 0.22 * np.exp(-0.5 * ((hod - 19.0) / 2.0) ** 2))
    shape = shape * np.where(weekend, 0.93, 1.0)
    scale = mean_mw * rng.uniform(0.6, 1.4, len(buses)) / shape.mean()
    noise = 1.0 + 0.03 * rng.standard_normal((len(snaps), len(buses)))
    total = np.maximum(shape[:, None] * scale[None, :] * noise, 0.0)
    share = rng.uniform(0.05, 0.15, len(buses))  # interruptible (industrial) part
    firm = pd.DataFrame(total * (1.0 - share), index=snaps, columns=buses)
    inter = pd.DataFrame(total * share, index=snaps, columns=buses)
    return firm, inter


def _generators(rng: np.random.Generator, snaps: pd.DatetimeIndex, buses: list[str],
                opt: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows: list[dict[str, Any]] = []
    pv_names: list[str] = []
    for i, bus in enumerate(buses):
        for k in range(int(opt["coal_per_bus"])):
            rows.append({"name": f"coal_{i:04d}_{k}", "bus": bus, "carrier": "coal",
                         "p_nom": float(rng.choice([600.0, 660.0, 1000.0])), "committable": True,
                         "p_min_pu": 0.4, "start_up_cost": float(rng.uniform(150.0, 300.0)),
                         "ramp_limit_up": 0.3, "ramp_limit_down": 0.3, "marginal_cost": 20.0,
                         "fuel_price": float(rng.uniform(22.0, 30.0)), "heat_rate": float(rng.uniform(8.6, 9.8)),
                         "co2_t_per_mwh": 0.86, "provides_reserve": True})
        for k in range(int(opt["gas_per_bus"])):
            rows.append({"name": f"gas_{i:04d}_{k}", "bus": bus, "carrier": "gas",
                         "p_nom": float(rng.choice([200.0, 300.0, 400.0])), "marginal_cost": 15.0,
                         "fuel_price": float(rng.uniform(60.0, 80.0)), "heat_rate": float(rng.uniform(6.2, 7.2)),
                         "co2_t_per_mwh": 0.37, "provides_reserve": True})
        for k in range(int(opt["pv_per_bus"])):
            name = f"pv_{i:04d}_{k}"
            pv_names.append(name)
            rows.append({"name": name, "bus": bus, "carrier": "pv", "p_nom": float(rng.uniform(200.0, 600.0))})
    gens = pd.DataFrame(rows)
    hod, day, _ = _daily(snaps)
    sun = np.clip(np.sin(np.pi * (hod - 6.0) / 12.0), 0.0, None)  # day/night shape, zero 18:00-06:00
    n_days = int(day.max()) + 1 if len(day) else 1
    cloud = rng.uniform(0.35, 1.0, (n_days, len(pv_names)))  # daily clearness per plant
    noise = np.clip(1.0 + 0.05 * rng.standard_normal((len(snaps), len(pv_names))), 0.0, None)
    avail = np.clip(0.85 * sun[:, None] * cloud[day] * noise, 0.0, 1.0)
    return gens, pd.DataFrame(avail, index=snaps, columns=pv_names)


def _reservoirs(rng: np.random.Generator, snaps: pd.DatetimeIndex, buses: list[str],
                opt: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Reservoir stations, chained into cascades of `cascade_length` along the bus order."""
    per_bus = int(opt["reservoirs_per_bus"])
    chain = max(1, int(opt["cascade_length"]))
    names = [f"hydro_{i:04d}_{k}" for k in range(per_bus) for i in range(len(buses))]
    bus_of = [buses[i] for _ in range(per_bus) for i in range(len(buses))]
    m = len(names)
    p_nom = rng.choice([300.0, 600.0, 1200.0], size=m)
    coef = rng.uniform(0.8, 2.0, m)  # MW per m3/s (head of roughly 90-220 m)
    v_max = rng.uniform(100.0, 1500.0, m)  # hm3
    v_min = v_max * rng.uniform(0.1, 0.3, m)
    v0 = v_min + (v_max - v_min) * rng.uniform(0.4, 0.8, m)
    delay = rng.integers(1, 7, m)
    downstream = [names[j + 1] if (j % chain) != chain - 1 and j + 1 < m else "" for j in range(m)]
    res = pd.DataFrame({"name": names, "bus": bus_of, "river": [f"river{j // chain:04d}" for j in range(m)],
                        "p_nom": p_nom, "production_mw_per_m3s": coef, "volume_min_hm3": v_min,
                        "volume_max_hm3": v_max, "volume_initial_hm3": v0,
                        "eco_flow_min_m3s": np.round(0.1 * p_nom / coef, 1), "downstream": downstream,
                        "delay_hours": np.where([d != "" for d in downstream], delay, 0)})
    _, day, _ = _daily(snaps)
    mean_inflow = 0.5 * p_nom / coef  # m3/s: natural inflow worth half the turbine capacity
    wave = 1.0 + 0.3 * np.sin(2.0 * np.pi * (day[:, None] / 365.0 + rng.uniform(0.0, 1.0, m)[None, :]))
    noise = np.clip(1.0 + 0.1 * rng.standard_normal((len(snaps), m)), 0.2, None)
    inflow = pd.DataFrame(mean_inflow[None, :] * wave * noise, index=snaps, columns=names)
    target = pd.DataFrame(np.broadcast_to(v0, (len(snaps), m)).copy(), index=snaps, columns=names)
    return res, inflow, target


def _storage(rng: np.random.Generator, buses: list[str], opt: dict[str, Any]) -> pd.DataFrame:
    rows = []
    for i, bus in enumerate(buses):
        for k in range(int(opt["storage_per_bus"])):
            rows.append({"name": f"phs_{i:04d}_{k}", "bus": bus, "carrier": "phs",
                         "p_nom": float(rng.choice([150.0, 300.0])), "max_hours": float(rng.choice([5.0, 6.0, 8.0])),
                         "efficiency_store": 0.87, "efficiency_dispatch": 0.87})
    return pd.DataFrame(rows)
