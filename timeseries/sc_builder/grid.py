"""Network tables of the grid: buses, AC lines, 1000/500 kV transformers, links and interfaces.

Inputs: ``buses.csv``, ``ac_corridors.csv`` (one row per corridor, expanded to one line per circuit),
``circuit_types.csv``, ``transformer_banks.csv``, ``interregional_links.csv``, ``interfaces.csv`` and
``interface_corridors.csv``. Units: kV, km, ohm, MW, MVA, CNY/MWh, pu.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .common import SNAPSHOTS, YEAR, Inputs


def build_buses(inp: Inputs) -> pd.DataFrame:
    b = inp["buses"]
    return pd.DataFrame({"name": b.name, "region": b.region, "v_nom": b.v_nom_kv.astype(float),
                         "x": b.lon_deg, "y": b.lat_deg, "description": b.description})


def circuit_type(types: pd.DataFrame, kv: int, km: float) -> pd.Series:
    """The first circuit type of a voltage whose route length limit covers ``km`` (blank = no limit).

    Long 500 kV routes are rated lower because stability, not heating, limits them.
    """
    of_kv = types[types.v_nom_kv == kv].sort_values("route_km_max", na_position="last")
    fits = of_kv[of_kv.route_km_max.isna() | (km <= of_kv.route_km_max)]
    assert len(fits), f"circuit_types.csv: no {kv} kV type for a {km} km route"
    return fits.iloc[0]


def build_lines(inp: Inputs, buses: pd.DataFrame) -> pd.DataFrame:
    """One line per circuit: x = x_ohm_per_km * route_km (ohm), s_nom per circuit (MW)."""
    vnom = buses.set_index("name")["v_nom"]
    rows = []
    for c in inp["ac_corridors"].itertuples(index=False):
        kv = int(vnom[c.bus0])
        assert kv == int(vnom[c.bus1]), f"ac_corridors.csv: {c.corridor} joins buses of different voltage"
        t = circuit_type(inp["circuit_types"], kv, c.route_km)
        for i in range(1, c.circuits + 1):
            rows.append(dict(name=f"{c.corridor}_{i}", bus0=c.bus0, bus1=c.bus1,
                             x=round(t.x_ohm_per_km * c.route_km, 2), s_nom=float(t.s_nom_mw_per_circuit),
                             length_km=float(c.route_km), build_year=c.build_year, carrier=f"AC{kv}"))
    return pd.DataFrame(rows)


def build_transformers(inp: Inputs) -> pd.DataFrame:
    """One row per 1000/500 kV bank; reactance in pu of the bank rating."""
    rows = []
    for t in inp["transformer_banks"].itertuples(index=False):
        for i in range(1, t.banks + 1):
            rows.append(dict(name=f"{t.name_stem}_T{i}", bus0=t.bus0, bus1=t.bus1, x=inp.fig.transformer_x_pu,
                             s_nom=float(t.s_nom_mva_per_bank), tap_ratio=1.0, build_year=t.build_year))
    return pd.DataFrame(rows)


def link_efficiency(length_km: float, line_loss_pu_per_1000km: float, converter_loss_pu: float) -> float:
    """efficiency = 1 - line loss per 1,000 km * length / 1,000 - loss of one converter pair, to 4 places.

    A link without a length is a back-to-back station: converter losses only.
    """
    km = 0.0 if pd.isna(length_km) else length_km
    return round(1.0 - line_loss_pu_per_1000km * km / 1000.0 - converter_loss_pu, 4)


def build_links(inp: Inputs) -> pd.DataFrame:
    """Controllable links; a link with p_min_pu < 0 runs both ways with the same efficiency."""
    rows = []
    for k in inp["interregional_links"].itertuples(index=False):
        eff = link_efficiency(k.length_km, k.line_loss_pu_per_1000km, k.converter_loss_pu)
        rows.append(dict(name=k.name, bus0=k.bus0, bus1=k.bus1, p_nom=float(k.p_nom_mw),
                         p_min_pu=float(k.p_min_pu), efficiency=eff,
                         efficiency_reverse=eff if k.p_min_pu < 0 else np.nan,
                         marginal_cost=float(k.marginal_cost_cny_per_mwh), length_km=k.length_km,
                         build_year=k.build_year, carrier=k.carrier))
    return pd.DataFrame(rows)


def in_service_masks(inp: Inputs) -> dict[str, np.ndarray]:
    """Links that enter service during the base year: True from 00:00 of their ``in_service`` date on.

    Links with an empty ``in_service`` predate the year and are left out (always available).
    """
    out = {}
    for k in inp["interregional_links"].itertuples(index=False):
        if not k.in_service:
            continue
        day = pd.Timestamp(k.in_service)
        assert day.year == YEAR, f"interregional_links.csv: {k.name} in_service {day.date()} is not in {YEAR}"
        out[k.name] = SNAPSHOTS >= day
    return out


def build_interfaces(inp: Inputs, lines: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Interfaces and their members: every circuit of the listed corridors, coefficient +1 when the
    circuit's bus0 is the corridor's sending bus and -1 when its bus1 is."""
    spec = inp["interfaces"]
    sides = inp["interface_corridors"]
    corridor_of_line = dict(zip(lines.name, lines.name.str.rsplit("_", n=1).str[0], strict=True))
    members = []
    for name in spec.name:
        mine = sides[sides.interface == name]
        sending = dict(zip(mine.corridor, mine.sending_bus, strict=True))
        for line in lines.itertuples(index=False):
            side = sending.get(corridor_of_line[line.name])
            if side is None:
                continue
            assert side in (line.bus0, line.bus1), \
                f"interface_corridors.csv: {side} is not an end of {line.name}"
            members.append((name, line.name, 1.0 if line.bus0 == side else -1.0))
    interfaces = pd.DataFrame({"name": spec.name, "limit_mw": spec.limit_mw.astype(float),
                               "limit_reverse_mw": spec.limit_reverse_mw.astype(float),
                               "description": spec.description})
    return interfaces, pd.DataFrame(members, columns=["interface", "branch", "coefficient"])
