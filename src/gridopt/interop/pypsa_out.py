"""Write the electrical part of a gridopt network as a PyPSA CSV folder (readable by ``pypsa.Network(folder)``).

The files follow the layout ``export_to_csv_folder`` writes (``snapshots.csv`` with the weightings, one
``<component>.csv`` per component, ``<component>-<attribute>.csv`` per time series, rows in snapshot
order). PyPSA itself is not needed. What is exact and what is approximated:

- buses (with their region in a ``region`` column), lines (with their carrier), transformers: as they are.
- capacity expansion: the extendable flag, min and max of lines, transformers (s_nom_*), links,
  generators and storage units (p_nom_*), stores (e_nom_*) and every element's capital_cost, as they are (the same
  names and meaning: cost per unit of capacity for the horizon, paid on optimal minus existing capacity
  of extendable elements). PyPSA keeps a transformer's reactance at its existing s_nom, as gridopt.
- links: one-way links and lossless two-way links without a marginal cost as they are; other two-way
  links as two one-way PyPSA links (``<name>`` forward, ``<name>_reverse`` with efficiency_reverse),
  which is exact (PyPSA's single variable would create energy on lossy reverse flow) at a fixed
  capacity; an extendable one is extended forward only (warning: PyPSA cannot tie the two capacities).
- generators: marginal_cost = marginal_cost + fuel_price * heat_rate + carbon_price * co2_t_per_mwh (units
  inside a region), so the carbon price is folded into the cost; availability series as p_max_pu,
  must-run series (and p_min_pu of non-committable units) as p_min_pu; ramp limits (per snapshot: times the
  snapshots' duration) and p_init kept.
  Committable units are exported as non-committable (warning; start-up costs and minimum stable
  levels are lost). Gas-fired units fed from a gas node keep only their non-fuel cost (warning).
- loads: firm plus interruptible load, one PyPSA load per bus; load shedding as generators
  (carrier ``load_shedding``) at the two values of lost load, so the LP is the same.
- markets: selling as a generator at sell_price, buying as a generator with p_min_pu = -1, p_max_pu = 0
  at buy_price (its negative output earns the price), prices as marginal_cost series.
- snapshots: their timestamps, with PyPSA's three weightings: objective (costs), stores (the snapshots'
  durations, which advance storage) and generators (energy and emission limits).
- storage units: as they are (state_of_charge_initial times (1 - standing_loss)^hours of the first snapshot,
  since PyPSA starts from it without a loss; p_min_pu = -p_nom_store / p_nom, -1 at p_nom 0 as gridopt's
  charge rating follows).
- stores: as they are (the same attributes; e_initial as state_of_charge_initial above), level limits as
  e_min_pu / e_max_pu, static or series.
- the case's 'system' carbon cap: a GlobalConstraint co2_limit (primary_energy on the carriers' co2_emissions;
  PyPSA also counts emitting generators at external buses, with a warning); regional caps are left out with a
  warning. Expansion limits: GlobalConstraints of type transmission_volume_expansion_limit or
  transmission_expansion_cost_limit over their carriers (lines and links keep their carriers and lengths).
- hydro reservoirs: StorageUnits in energy units (warning): 1 hm3 of water is coefficient / 0.0036 MWh,
  inflow in MW = inflow_m3s * coefficient, energy capacity from volume_max_hm3 - volume_min_hm3,
  spill_cost = the spill penalty (per MWh of the store's energy: exact for reservoirs without a
  downstream reservoir, whose cascade energy is their own coefficient); cascades, rule curves, ecological flow, end targets and spill
  limits are not represented. An extendable turbine is exported at its existing capacity (warning: a
  StorageUnit's energy would grow with its p_nom, the reservoir's volume does not).
- left out with a warning: the gas system, interfaces, reserves, export contract minimums, elastic
  penalties (curtailment).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from ..formulation.balance import sheds_load
from ..formulation.context import RENEWABLE_CARRIERS
from ..network import Network
from ..schema import EXTERNAL
from ..units import HM3_PER_M3S_HOUR
from .common import prepare_output, warn, write_atomic_folder

# PyPSA's defaults, written where a row of a mixed table leaves a column empty
_EXPANSION_DEFAULTS = {"p_nom_extendable": False, "p_nom_min": 0.0, "p_nom_max": np.inf, "capital_cost": 0.0}
_DEFAULTS = {"generators": {"p_max_pu": 1.0, "p_min_pu": 0.0, "efficiency": 1.0, "marginal_cost": 0.0,
                            **_EXPANSION_DEFAULTS},
             "storage_units": {"spill_cost": 0.0, "standing_loss": 0.0, "marginal_cost": 0.0,
                               **_EXPANSION_DEFAULTS},
             "links": {"length": 0.0, **_EXPANSION_DEFAULTS}}


def expansion(table: pd.DataFrame, nom: str) -> dict[str, pd.Series]:
    """The capacity-expansion columns of a gridopt table, under PyPSA's names (the same as gridopt's)."""
    return {f"{nom}_extendable": table[f"{nom}_extendable"].astype(bool), f"{nom}_min": table[f"{nom}_min"],
            f"{nom}_max": table[f"{nom}_max"], "capital_cost": table["capital_cost"]}


def export_pypsa(net: Network, folder: str | os.PathLike, force: bool = False) -> Path:
    """Write `net` as a PyPSA CSV folder at `folder` (atomically); warnings name what is approximated."""
    out = prepare_output(folder, force)
    return write_atomic_folder(out, lambda tmp: _Writer(net, tmp).write())


class _Writer:
    def __init__(self, net: Network, folder: Path):
        self.net, self.folder = net, folder
        self.index = net.snapshots
        self.T = len(self.index)
        self.rows = slice(0, self.T)
        self.static: dict[str, list[pd.DataFrame]] = {}
        self.series: dict[tuple[str, str], list[pd.DataFrame]] = {}

    def add(self, comp: str, df: pd.DataFrame) -> None:
        if len(df):
            self.static.setdefault(comp, []).append(df)

    def add_series(self, comp: str, attr: str, df: pd.DataFrame) -> None:
        if df.shape[1]:
            self.series.setdefault((comp, attr), []).append(df.reset_index(drop=True))

    def values(self, name: str, elements: pd.Index) -> pd.DataFrame:
        return pd.DataFrame(self.net.series_values(name, elements, self.rows), columns=elements)

    def write(self) -> None:
        net = self.net
        buses = net.tables["buses"]
        self.add("buses", pd.DataFrame({"v_nom": buses["v_nom"], "x": buses["x"].fillna(0.0),
                                        "y": buses["y"].fillna(0.0), "carrier": "AC", "region": buses["region"]}))
        self.branches()
        carriers = self.generators()
        self.loads_and_markets()
        self.storage()
        self.stores()
        self.reservoirs()
        self.global_constraints()
        self.left_out()
        if carriers is not None:
            self.add("carriers", carriers)
        self.flush()

    # ---- components -------------------------------------------------------------------------
    def branches(self) -> None:
        net = self.net
        ln = net.active("lines")
        self.add("lines", pd.DataFrame({"bus0": ln["bus0"], "bus1": ln["bus1"], "x": ln["x"], "r": 0.0,
                                        "s_nom": ln["s_nom"], "s_max_pu": ln["s_max_pu"],
                                        "length": ln["length_km"].fillna(0.0), "carrier": ln["carrier"].replace("", "AC"),
                                        **expansion(ln, "s_nom")}))
        tr = net.active("transformers")
        self.add("transformers", pd.DataFrame({"bus0": tr["bus0"], "bus1": tr["bus1"], "x": tr["x"], "r": 0.0,
                                               "s_nom": tr["s_nom"], "s_max_pu": tr["s_max_pu"],
                                               "tap_ratio": tr["tap_ratio"], **expansion(tr, "s_nom")}))
        lk = net.active("links")
        eff_r = lk["efficiency_reverse"].fillna(lk["efficiency"])
        two_way = lk["p_min_pu"] < 0
        simple = ~two_way | ((lk["efficiency"] == 1) & (eff_r == 1) & (lk["marginal_cost"] == 0))
        carrier = lk["carrier"].replace("", "DC")
        fwd = pd.DataFrame({"bus0": lk["bus0"], "bus1": lk["bus1"], "p_nom": lk["p_nom"], "p_max_pu": lk["p_max_pu"],
                            "p_min_pu": lk["p_min_pu"].where(simple, 0.0), "efficiency": lk["efficiency"],
                            "marginal_cost": lk["marginal_cost"], "carrier": carrier,
                            "length": lk["length_km"].fillna(0.0), **expansion(lk, "p_nom")})
        self.add("links", fwd)
        timed = lk.index[lk.index.isin(self.net.series.get("link_p_max_pu", pd.DataFrame()).columns)]
        self.add_series("links", "p_max_pu", self.values("link_p_max_pu", timed))
        split = lk[~simple]
        if len(split):
            # the reverse half keeps the existing capacity: a second decision would let PyPSA extend it apart
            rev = pd.DataFrame({"bus0": split["bus1"], "bus1": split["bus0"], "p_nom": split["p_nom"],
                                "p_max_pu": -split["p_min_pu"], "p_min_pu": 0.0, "efficiency": eff_r[~simple],
                                "marginal_cost": split["marginal_cost"], "carrier": carrier[~simple]})
            rev.index = split.index + "_reverse"
            self.add("links", rev)
            grown = split.index[split["p_nom_extendable"].astype(bool)]
            if len(grown):
                warn("extendable two-way links exported as two one-way links, extended forward only (PyPSA "
                     "cannot tie their capacities; the reverse one keeps the existing p_nom): "
                     + ", ".join(grown))

    def generators(self) -> pd.DataFrame | None:
        net, cfg = self.net, self.net.config
        g = net.active("generators")
        if len(g) == 0:
            return None
        internal = ~g["bus"].map(net.tables["buses"]["region"]).eq(EXTERNAL)
        uses_gas = g["gas_node"] != ""
        fuel = (g["fuel_price"] * g["heat_rate"]).where(~uses_gas, 0.0)
        cp = float(cfg["carbon_price"])
        mc = g["marginal_cost"] + fuel + cp * g["co2_t_per_mwh"] * internal
        if cp > 0 and (g["co2_t_per_mwh"] > 0).any():
            warn(f"carbon price {cp:g} CNY/t folded into the generators' marginal_cost")
        if uses_gas.any() and len(net.tables["gas_nodes"]):
            warn(f"gas-fired units fed from gas nodes keep only their non-fuel marginal_cost (gas system not "
                 f"exported): {', '.join(g.index[uses_gas])}")
        committable = g["committable"]
        if committable.any():
            warn(f"committable units exported as non-committable (minimum stable level and start-up cost "
                 f"dropped): {', '.join(g.index[committable])}")
        avail_pu = self.values("p_max_pu", g.index)
        must = self.values("must_run_pu", g.index)
        lower = np.maximum(must, np.where(committable, 0.0, g["p_min_pu"].to_numpy())[None, :])
        lower = np.minimum(lower, avail_pu)
        has_avail = g.index.isin(net.series["p_max_pu"].columns if "p_max_pu" in net.series else [])
        varying_min = (lower != lower.iloc[0]).any(axis=0).to_numpy() | g.index.isin(
            net.series["must_run_pu"].columns if "must_run_pu" in net.series else [])
        static_min = lower.iloc[0].where(~varying_min, 0.0) if self.T else g["p_min_pu"] * 0
        # gridopt's ramp limits are per hour, PyPSA's per snapshot
        dur = net.durations(self.rows)
        dt = float(dur[0]) if self.T else 1.0
        ramped = g.index[g["ramp_limit_up"].notna() | g["ramp_limit_down"].notna()]
        if len(ramped) and not np.allclose(dur, dt):
            warn(f"ramp limits exported at the first snapshot's {dt:g} h (PyPSA's limits are per snapshot, and "
                 "these snapshots last different times): " + ", ".join(ramped))
        renewable = g["carrier"].str.lower().isin(RENEWABLE_CARRIERS)
        if renewable.any() and net.config["penalties"]["curtailment_cny_per_mwh"] > 0:
            warn(f"curtailment penalty {net.config['penalties']['curtailment_cny_per_mwh']:g} CNY/MWh not exported "
                 "(curtailment is free in PyPSA)")
        self.add("generators", pd.DataFrame({
            "bus": g["bus"], "carrier": g["carrier"], "p_nom": g["p_nom"], "p_max_pu": g["p_max_pu"],
            "p_min_pu": static_min, "marginal_cost": mc, "ramp_limit_up": g["ramp_limit_up"] * dt,
            "ramp_limit_down": g["ramp_limit_down"] * dt, "p_init": g["p_init"], "efficiency": 1.0,
            **expansion(g, "p_nom")}))
        if has_avail.any():
            self.add_series("generators", "p_max_pu", avail_pu.loc[:, has_avail])
        if varying_min.any():
            self.add_series("generators", "p_min_pu", lower.loc[:, varying_min])
        co2 = g.groupby("carrier")["co2_t_per_mwh"]
        if (co2.nunique() > 1).any():
            mixed = list(co2.nunique()[lambda s: s > 1].index)
            warn(f"carriers with differing co2_t_per_mwh get the capacity-weighted mean as co2_emissions: "
                 f"{', '.join(mixed)}")
        mean = (g["co2_t_per_mwh"] * g["p_nom"]).groupby(g["carrier"]).sum() / \
            g["p_nom"].groupby(g["carrier"]).sum().replace(0, np.nan)
        mean = mean.fillna(co2.mean())
        return pd.DataFrame({"co2_emissions": mean}).rename_axis("name")

    def loads_and_markets(self) -> None:
        net, pen = self.net, self.net.config["penalties"]
        buses = net.tables["buses"].index
        firm = self.values("load_firm_mw", buses)
        inter = self.values("load_interruptible_mw", buses)
        total = firm + inter
        loaded = buses[(total > 0).any(axis=0).to_numpy()]
        names = pd.Index([f"load_{b}" for b in loaded])
        self.add("loads", pd.DataFrame({"bus": loaded}, index=names))
        self.add_series("loads", "p_set", total[loaded].set_axis(names, axis=1))
        rows, avail = [], []
        for tier, df, voll in (("firm", firm, pen["voll_firm_cny_per_mwh"]),
                               ("interruptible", inter, pen["voll_interruptible_cny_per_mwh"])):
            peak = df.max(axis=0)
            has = peak[peak > 0].index
            if len(has) == 0 or not sheds_load(net.config):  # a case without shed variables exports none
                continue
            n = pd.Index([f"shed_{tier}_{b}" for b in has])
            rows.append(pd.DataFrame({"bus": has, "carrier": "load_shedding", "p_nom": peak[has].to_numpy(),
                                      "marginal_cost": voll}, index=n))
            avail.append((df[has] / peak[has]).set_axis(n, axis=1))
        mk = net.tables["markets"]
        for kind, cap, price in (("sell", "sell_max_mw", "sell_price"), ("buy", "buy_max_mw", "buy_price")):
            m = mk[mk[cap] > 0]
            if len(m) == 0:
                continue
            n = pd.Index([f"{x}_{kind}" for x in m.index])
            rows.append(pd.DataFrame({"bus": m["bus"].to_numpy(), "carrier": "market", "p_nom": m[cap].to_numpy(),
                                      "p_min_pu": -1.0 if kind == "buy" else 0.0,
                                      "p_max_pu": 0.0 if kind == "buy" else 1.0,
                                      "marginal_cost": m[price].to_numpy()}, index=n))
            prices = self.values(price, m.index)
            varying = (prices != prices.iloc[0]).any(axis=0).to_numpy()
            if varying.any():
                self.add_series("generators", "marginal_cost", prices.loc[:, varying].set_axis(n[varying], axis=1))
        for df in rows:
            self.add("generators", df)
        for df in avail:
            self.add_series("generators", "p_max_pu", df)

    def storage(self) -> None:
        su = self.net.active("storage_units")
        if len(su) == 0:
            return
        p_store = su["p_nom_store"].fillna(su["p_nom"])
        pmin = -(p_store / su["p_nom"].replace(0, np.nan)).fillna(1.0)  # charge rating per MW, 1 at p_nom 0
        self.add("storage_units", pd.DataFrame({
            "bus": su["bus"], "carrier": su["carrier"], "p_nom": su["p_nom"], "p_min_pu": pmin,
            "max_hours": su["max_hours"], "efficiency_store": su["efficiency_store"],
            "efficiency_dispatch": su["efficiency_dispatch"], "standing_loss": su["standing_loss"],
            "cyclic_state_of_charge": su["cyclic_state_of_charge"],
            "state_of_charge_initial": su["state_of_charge_initial"] * self.kept_first(su["standing_loss"]),
            "marginal_cost": su["marginal_cost"], **expansion(su, "p_nom")}))

    def kept_first(self, standing_loss: pd.Series) -> pd.Series:
        """What a level keeps over the first snapshot: PyPSA starts from its initial level without a loss."""
        return (1.0 - standing_loss) ** float(self.net.durations(self.rows)[0] if self.T else 1.0)

    def stores(self) -> None:
        st = self.net.active("stores")
        if len(st) == 0:
            return
        self.add("stores", pd.DataFrame({
            "bus": st["bus"], "carrier": st["carrier"], "e_nom": st["e_nom"], "e_min_pu": st["e_min_pu"],
            "e_max_pu": st["e_max_pu"], "e_cyclic": st["e_cyclic"],
            "e_initial": st["e_initial"] * self.kept_first(st["standing_loss"]), "standing_loss": st["standing_loss"],
            "marginal_cost": st["marginal_cost"], "marginal_cost_storage": st["marginal_cost_storage"],
            **expansion(st, "e_nom")}))
        for name in ("e_min_pu", "e_max_pu"):
            cols = [c for c in self.net.series.get(name, pd.DataFrame()).columns if c in st.index]
            if cols:
                self.add_series("stores", name, self.values(name, pd.Index(cols)))

    def global_constraints(self) -> None:
        """The case's 'system' carbon cap as PyPSA's CO2 limit (primary_energy on the carriers' co2_emissions),
        its expansion limits as transmission volume or cost expansion limits."""
        net = self.net
        rows = {}
        caps = dict(net.config.get("carbon_caps") or {})
        if "system" in caps:
            rows["co2_limit"] = {"type": "primary_energy", "carrier_attribute": "co2_emissions", "sense": "<=",
                                 "constant": caps.pop("system")}
            g = net.active("generators")
            outside = g.index[(g["bus"].map(net.tables["buses"]["region"]) == EXTERNAL) & (g["co2_t_per_mwh"] > 0)]
            if len(outside):
                warn("PyPSA's CO2 limit also counts emitting generators at external buses, gridopt's 'system' cap "
                     "does not: " + ", ".join(outside))
        if caps:
            warn(f"regional carbon caps not exported (PyPSA's CO2 limit is the system's): {', '.join(caps)}")
        kinds = {"volume_mw_km": "transmission_volume_expansion_limit", "cost_cny": "transmission_expansion_cost_limit"}
        for name, spec in (net.config.get("expansion_limits") or {}).items():
            kind = next(k for k in kinds if k in spec)
            rows[name] = {"type": kinds[kind], "carrier_attribute": ", ".join(spec["carriers"]), "sense": "<=",
                          "constant": spec[kind]}
        if rows:
            self.add("global_constraints", pd.DataFrame.from_dict(rows, orient="index"))

    def reservoirs(self) -> None:
        net = self.net
        res = net.active("reservoirs")
        if len(res) == 0:
            return
        coef = res["production_mw_per_m3s"]
        mwh_per_hm3 = coef / HM3_PER_M3S_HOUR
        energy = (res["volume_max_hm3"] - res["volume_min_hm3"]) * mwh_per_hm3
        p_nom = res["p_nom"]
        # gridopt prices spill per MWh of the water's energy down the cascade; in PyPSA the water reaches no
        # downstream store, so spill is priced per MWh of this store's energy
        spill = float(net.config["penalties"]["spill_cny_per_mwh"])
        self.add("storage_units", pd.DataFrame({
            "bus": res["bus"], "carrier": "hydro", "p_nom": p_nom, "p_min_pu": 0.0,
            "max_hours": (energy / p_nom.replace(0, np.nan)).fillna(1.0),
            "efficiency_store": 1.0, "efficiency_dispatch": 1.0, "cyclic_state_of_charge": False,
            "state_of_charge_initial": (res["volume_initial_hm3"] - res["volume_min_hm3"]) * mwh_per_hm3,
            "spill_cost": spill, "marginal_cost": res["marginal_cost"]}))
        grown = res.index[res["p_nom_extendable"].astype(bool)]
        if len(grown):
            warn("extendable reservoir turbines exported at their existing capacity (a StorageUnit's energy "
                 "would grow with its p_nom, a reservoir's volume does not): " + ", ".join(grown))
        self.add_series("storage_units", "inflow", self.values("inflow_m3s", res.index) * coef.to_numpy())
        for name, r in res.iterrows():
            lost = []
            if r["downstream"]:
                lost.append(f"cascade to {r['downstream']}")
            for ser, what in (("volume_min_rule_hm3", "minimum rule curve"), ("volume_max_rule_hm3", "maximum rule curve"),
                              ("volume_target_hm3", "target volume")):
                if name in net.series.get(ser, pd.DataFrame()).columns:
                    lost.append(what)
            if r["eco_flow_min_m3s"] > 0:
                lost.append("ecological minimum flow")
            if np.isfinite(r["spill_max_m3s"]):
                lost.append("spill limit")
            warn(f"reservoir {name} exported as a StorageUnit in energy units ({mwh_per_hm3[name]:g} MWh per hm3 "
                 f"at constant head; PyPSA bounds spill by the hour's inflow)"
                 + (f"; not represented: {', '.join(lost)}" if lost else ""))

    def left_out(self) -> None:
        net = self.net
        if len(net.tables["gas_nodes"]):
            warn("gas system (gas nodes, supplies, pipelines, storages, demands) not exported: PyPSA CSV export "
                 "holds the electrical part only")
        for name in net.tables["interfaces"].index:
            warn(f"interface {name} not exported (PyPSA has no flowgate limits)")
        if any(v > 0 for v in net.config["reserves"].values()):
            warn(f"upward reserve requirements not exported: {', '.join(net.config['reserves'])}")
        if "contract_min_mw" in net.series and net.series["contract_min_mw"].shape[1]:
            warn(f"export contract minimums not exported: {', '.join(net.series['contract_min_mw'].columns)}")

    # ---- files ------------------------------------------------------------------------------
    def flush(self) -> None:
        f = self.folder
        f.mkdir(parents=True, exist_ok=True)
        net = self.net
        pd.DataFrame({"snapshot": self.index.strftime("%Y-%m-%d %H:%M:%S"), "objective": net.weightings(self.rows),
                      "stores": net.durations(self.rows), "generators": net.energy_weightings(self.rows)}
                     ).to_csv(f / "snapshots.csv")
        pd.DataFrame({"name": [self.net.name]}).to_csv(f / "network.csv", index=False)
        for comp, parts in self.static.items():
            df = pd.concat(parts)
            for col, default in _DEFAULTS.get(comp, {}).items():
                if col in df.columns:
                    df[col] = df[col].fillna(default)
            df.index.name = "name"
            df.to_csv(f / f"{comp}.csv")
        for (comp, attr), parts in self.series.items():
            pd.concat(parts, axis=1).to_csv(f / f"{comp}-{attr}.csv")


def describe_folder(folder: str | os.PathLike) -> str:
    """What a PyPSA CSV folder holds: element counts per component file and the number of snapshots."""
    f = Path(folder)
    parts = []
    for comp in ("buses", "lines", "transformers", "links", "generators", "loads", "storage_units", "stores",
                 "carriers", "global_constraints"):
        path = f / f"{comp}.csv"
        if path.is_file():
            rows = len(pd.read_csv(path, index_col=0))
            if rows:
                parts.append(f"{rows} {comp.replace('_', ' ')}")
    snapshots = len(pd.read_csv(f / "snapshots.csv")) if (f / "snapshots.csv").is_file() else 0
    return ", ".join(parts) + f"; {snapshots} snapshots"
