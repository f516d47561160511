"""Build the whole case: read the inputs, make every network table and hourly series, write them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from . import gas, grid, hydro, load, markets, renewables, thermal
from .common import HOURS, SNAPSHOTS, YEAR, Inputs, read_inputs, write_csv, write_parquet
from .generators import build_generators


def build_tables(inp: Inputs, info: dict) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Network tables by file stem, in the order they are written; also the reservoir flow table."""
    buses = grid.build_buses(inp)
    lines = grid.build_lines(inp, buses)
    interfaces, members = grid.build_interfaces(inp, lines)
    gens, ginfo = build_generators(inp)
    info.update(ginfo)
    res, flows = hydro.build_reservoirs(inp)
    hydro.check_cascade(inp, res)
    tables = dict(buses=buses, lines=lines, transformers=grid.build_transformers(inp),
                  links=grid.build_links(inp), interfaces=interfaces, interface_members=members,
                  generators=gens, storage_units=hydro.build_storage_units(inp), reservoirs=res,
                  markets=markets.build_markets(inp))
    tables.update(gas.build_gas_tables(inp))
    info["gas_at_plants"] = gas.check_power_gas_price(inp, tables)
    return tables, flows


def build_series(inp: Inputs, tables: dict[str, pd.DataFrame], flows: pd.DataFrame,
                 info: dict) -> dict[str, pd.DataFrame]:
    """Hourly series by file stem. Each generator of random numbers has its own seed, so the order of
    the calls below does not matter."""
    gens, res = tables["generators"], tables["reservoirs"]
    series: dict[str, pd.DataFrame] = {}
    series["load_firm_mw"], series["load_interruptible_mw"] = load.build_load(inp, info)
    pv = renewables.build_pv(inp, gens, info)
    wind = renewables.build_wind(inp, gens, info)
    ror = hydro.build_hydro_pmax(inp, gens, info)
    tpmax, must = thermal.build_thermal_pmax(inp, gens)
    series["p_max_pu"] = pd.concat([pv, wind, ror, tpmax], axis=1)
    series["must_run_pu"] = must
    series["inflow_m3s"] = hydro.build_inflows(inp, res, flows, info)
    series.update(hydro.build_rule_curves(inp, res))
    series["contract_min_mw"] = markets.build_contracts(inp, info)
    series["link_p_max_pu"] = markets.build_link_pmax(inp)
    series["buy_price"], series["sell_price"] = markets.build_prices(inp)
    series["gas_demand_mm3_per_h"] = gas.build_gas_demand(tables, inp)
    series["weighting"] = pd.DataFrame({"weighting": np.ones(HOURS)}, index=SNAPSHOTS)
    return series


def build(series_out: Path, network_out: Path | None, verbose: bool = True) -> dict:
    """Write the Parquet series to ``series_out`` and, unless None, the CSV tables to ``network_out``."""
    inp = read_inputs()
    info: dict = {}
    tables, flows = build_tables(inp, info)
    series = build_series(inp, tables, flows, info)
    series_out.mkdir(parents=True, exist_ok=True)
    for name, df in series.items():
        write_parquet(df, series_out / f"{name}.parquet")
    if network_out is not None:
        network_out.mkdir(parents=True, exist_ok=True)
        for name, df in tables.items():
            write_csv(df, network_out / f"{name}.csv")
    info["flows"] = flows
    info["tables"] = tables
    info["series"] = series
    if verbose:
        report(inp, info)
    return info


def report(inp: Inputs, info: dict) -> None:
    """Print the calibration: load, capacity factors, reservoir energy, contracts and capacity totals."""
    s = info["series"]
    t = info["tables"]
    firm, intr = s["load_firm_mw"], s["load_interruptible_mw"]
    print("Calibration")
    for region in inp["regions"].region:
        zones = inp.zones(region)
        tot = firm[zones].sum(axis=1) + intr[zones].sum(axis=1)
        print(f"  load {region}: {tot.sum() / 1e6:.2f} TWh, peak {tot.max() / 1e3:.2f} GW at {tot.idxmax()}, "
              f"load factor {tot.mean() / tot.max():.3f}, exponent k {info[f'load_k_{region}']:.3f}, "
              f"interruptible {intr[zones].sum().sum() / 1e6:.1f} TWh")
    print("  PV CF:", info["pv_cf"])
    print("  wind CF:", info["wind_cf"])
    print("  run-of-river CF:", dict(list(info["ror_cf"].items())[:3]), "...")
    print("  coal scale (GEM -> provincial):", {k: round(v, 3) for k, v in info["coal_scale"].items()})
    fl = info["flows"]
    fl = fl.assign(e_capped=pd.Series(info["hydro_energy_capped_twh"]))
    with pd.option_context("display.width", 200, "display.max_rows", 100):
        print(fl.round(3))
    print(f"  reservoir energy, mean flow x k: {fl.energy_twh.sum():.1f} TWh; "
          f"capped at p_nom hourly: {fl.e_capped.sum():.1f} TWh")
    print("  export contracts TWh:", {k: round(v, 2) for k, v in info["contracts_twh"].items()})
    print("  gas cost at power plants' nodes (CNY/1000 m3):", info["gas_at_plants"])
    report_capacity(t)


def report_capacity(t: dict[str, pd.DataFrame]) -> None:
    g = t["generators"]
    bus_region = t["buses"].set_index("name").region
    g = g.assign(region=g.bus.map(bus_region))
    act = g[g.build_year <= YEAR]
    print(f"  capacity in service {YEAR} (MW) by region and carrier:")
    print(act.groupby(["region", "carrier"]).p_nom.sum().unstack(0).round(0))
    r = t["reservoirs"].assign(region=lambda d: d.bus.map(bus_region))
    print("  reservoir MW by region:", r.groupby("region").p_nom.sum().to_dict())
    for k in ("buses", "lines", "transformers", "links", "generators", "reservoirs", "storage_units",
              "markets"):
        print(f"  {k}: {len(t[k])}")
