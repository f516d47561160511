"""Solution arrays -> tidy tables, the summary, after-solve checks and atomic writing.

Every table is long ("tidy"): one row per (hour, element), units in column names. Prices and shadow
prices are per MWh (duals divided by the snapshot weighting), money in CNY.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .formulation.context import RENEWABLE_CARRIERS, Context
from .formulation.hydro import cascade_energy
from .lp import OBJ_SCALE
from .solvers.highs import Solution
from .units import HM3_PER_M3S_HOUR, KCM_PER_MM3, MWH_PER_HM3_PER_MW_PER_M3S

TABLES = ("generation", "storage", "hydro", "flows", "interfaces", "prices", "reserves", "emissions", "gas")


def _long(snaps: pd.DatetimeIndex, names: pd.Index, label: str, **cols: np.ndarray) -> pd.DataFrame:
    T, n = len(snaps), len(names)
    data: dict[str, Any] = {"hour": np.repeat(snaps.to_numpy(), n), label: np.tile(np.asarray(names, dtype=object), T)}
    for k, v in cols.items():
        v = np.asarray(v)
        if v.ndim == 1 and v.shape[0] == n and T != 1:
            v = np.broadcast_to(v, (T, n))
        data[k] = np.broadcast_to(v, (T, n)).ravel() if v.ndim else np.full(T * n, v)
    return pd.DataFrame(data)


@dataclass
class Result:
    """A dispatch's outcome: tidy tables, the summary dict, and (optionally) the after-solve issues."""

    summary: dict[str, Any]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    checks: list[str] = field(default_factory=list)
    context: Context | None = None
    solution: Solution | None = None
    parts: dict[str, Any] = field(default_factory=dict)  # per-hour cost and penalty arrays, water in transit

    def __getattr__(self, name: str) -> pd.DataFrame:
        if name in TABLES:
            return self.tables.get(name, pd.DataFrame())
        raise AttributeError(name)

    def write(self, folder: str | os.PathLike) -> Path:
        """Write summary.json and one Parquet file per table; the folder appears whole or not at all."""
        return write_atomic(folder, self.summary, self.tables)


def write_atomic(folder: str | os.PathLike, summary: dict[str, Any], tables: dict[str, pd.DataFrame]) -> Path:
    out = Path(folder)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        for name, df in tables.items():
            df.to_parquet(tmp / f"{name}.parquet", index=False, compression="zstd")
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2, default=_json_default) + "\n")
        old = None
        if out.exists():
            old = out.parent / f".{out.name}.old-{os.getpid()}"
            os.replace(out, old)
        os.replace(tmp, out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _json_default(o: Any) -> Any:
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if isinstance(o, (pd.Timestamp,)):
        return o.isoformat()
    raise TypeError(type(o))


def extract(ctx: Context, sol: Solution) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """Tidy tables and the cost/penalty/emission parts of the summary from a primal solution."""
    lp, net, snaps, T = ctx.lp, ctx.net, ctx.snapshots, ctx.T
    w = ctx.weights[:, None]
    x = sol.x
    has_duals = sol.row_dual.size == lp.nrows and lp.nrows > 0
    rdual = sol.row_dual if has_duals else np.full(lp.nrows, np.nan)
    cdual = sol.col_dual if has_duals else np.full(lp.ncols, np.nan)
    V = lambda name: lp.variables[name].take(x)
    R = lambda name: lp.rows[name].take(rdual) / OBJ_SCALE
    D = lambda name: lp.variables[name].take(cdual) / OBJ_SCALE
    buses = net.tables["buses"]
    regions = buses["region"]
    tables: dict[str, pd.DataFrame] = {}
    cost: dict[str, float] = {}
    pen: dict[str, float] = {}
    wsum = lambda a: (w * a).sum(axis=1) if np.ndim(a) == 2 else w[:, 0] * a

    # ---- generation: generators, reservoir hydro, market sales -------------------------------------
    g = ctx.data["generators"]
    p = V("gen_p")
    avail = ctx.data["gen_avail"]
    renew = g["carrier"].str.lower().isin(RENEWABLE_CARRIERS).to_numpy()
    curtailed = np.where(renew, avail - p, 0.0)
    committed = V("gen_committed") if "gen_committed" in lp.variables else np.zeros((T, 0))
    comm_full = np.full((T, len(g)), np.nan)
    if committed.size:
        comm_full[:, g.index.get_indexer(lp.variables["gen_committed"].elements)] = committed
    co2 = g["co2_t_per_mwh"].to_numpy()
    uses_gas = ctx.data["gen_uses_gas"]
    gas_per_mwh = np.where(uses_gas, g["heat_rate"].to_numpy() / float(net.config["gas_lhv_gj_per_kcm"]) / KCM_PER_MM3, 0.0)
    gen = _long(snaps, g.index, "unit", bus=g["bus"].to_numpy(), region=regions.reindex(g["bus"]).to_numpy(),
                carrier=g["carrier"].to_numpy(), p_mw=p, available_mw=avail, curtailed_mw=curtailed,
                committed_mw=comm_full, co2_t=p * co2, gas_mm3_per_h=p * gas_per_mwh)
    res = ctx.data["reservoirs"]
    coef = res["production_mw_per_m3s"].to_numpy()
    q = V("hydro_release")
    hp = q * coef
    rgen = _long(snaps, res.index, "unit", bus=res["bus"].to_numpy(), region=regions.reindex(res["bus"]).to_numpy(),
                 carrier="hydro_reservoir", p_mw=hp, available_mw=res["p_nom"].to_numpy(), curtailed_mw=0.0,
                 committed_mw=np.nan, co2_t=0.0, gas_mm3_per_h=0.0)
    mk = net.tables["markets"]
    sell, buy = V("market_sell"), V("market_buy")
    mgen = _long(snaps, mk.index, "unit", bus=mk["bus"].to_numpy(), region=regions.reindex(mk["bus"]).to_numpy(),
                 carrier="import", p_mw=sell, available_mw=mk["sell_max_mw"].to_numpy(), curtailed_mw=0.0,
                 committed_mw=np.nan, co2_t=sell * mk["co2_t_per_mwh"].to_numpy(), gas_mm3_per_h=0.0)
    tables["generation"] = pd.concat([x for x in (gen, rgen, mgen) if len(x)] or [gen], ignore_index=True)

    fuel = np.where(uses_gas, 0.0, g["fuel_price"].to_numpy() * g["heat_rate"].to_numpy())
    internal = ~ctx.is_external(g["bus"])
    cost["fuel_cny"] = wsum(p * fuel)
    cost["operation_cny"] = wsum(p * g["marginal_cost"].to_numpy()) + wsum(hp * res["marginal_cost"].to_numpy())
    su = V("gen_start_up") if "gen_start_up" in lp.variables else np.zeros((T, 0))
    sc = g["start_up_cost"].reindex(lp.variables["gen_start_up"].elements).to_numpy() if su.size else 0.0
    cost["start_up_cny"] = wsum(su * sc) if su.size else np.zeros(T)
    cost["carbon_cny"] = wsum(p * co2 * internal) * ctx.options.carbon_price
    cost["imports_cny"] = wsum(sell * ctx.data["sell_price"])
    cost["export_revenue_cny"] = -wsum(buy * ctx.data["buy_price"])
    pen["curtailment_cny"] = wsum(curtailed) * ctx.penalty("curtailment_cny_per_mwh")

    # ---- storage -------------------------------------------------------------------------------------
    st = ctx.data["storage"]
    ch, dis, soc = V("storage_charge"), V("storage_discharge"), V("storage_soc")
    # value of one more MWh in store: minus the dual of the state-of-charge balance
    soc_value = -R("storage_soc_balance") if "storage_soc_balance" in lp.rows else np.full(soc.shape, np.nan)
    tables["storage"] = _long(snaps, st.index, "unit", bus=st["bus"].to_numpy(), region=regions.reindex(st["bus"]).to_numpy(),
                              charge_mw=ch, discharge_mw=dis, soc_mwh=soc, soc_value_cny_per_mwh=soc_value)
    cost["operation_cny"] += wsum(dis * st["marginal_cost"].to_numpy())

    # ---- hydro ---------------------------------------------------------------------------------------
    s, vol = V("hydro_spill"), V("hydro_volume")
    upstream = np.zeros((T, len(res)))
    in_transit = 0.0
    if "cascade" in ctx.data:  # upstream water arriving in each snapshot, as a mean flow over the snapshot
        u_pos, d_pos, arrive = ctx.data["cascade"]
        k = HM3_PER_M3S_HOUR * ctx.dt[:, 0]  # hm3 per m3/s over each snapshot
        hm3 = ctx.data["arrivals_before_hm3"].copy()
        out = (q + s)[:, u_pos] * k[:, None]
        inside = arrive < T
        for j in range(len(u_pos)):
            hm3[:, j] += np.bincount(arrive[inside[:, j], j], out[inside[:, j], j], minlength=T)
            in_transit += float(out[~inside[:, j], j].sum())
        np.add.at(upstream.T, d_pos, (hm3 / k[:, None]).T)
    e = cascade_energy(res) * MWH_PER_HM3_PER_MW_PER_M3S
    hydro_cols = dict(bus=res["bus"].to_numpy(), natural_inflow_m3s=ctx.data["inflow"], upstream_inflow_m3s=upstream,
                      release_m3s=q, spill_m3s=s, volume_hm3=vol, p_mw=hp,
                      # value of one more hm3 in store: minus the dual of the volume balance (inflow lowers cost)
                      water_value_cny_per_hm3=-R("hydro_volume_balance") if "hydro_volume_balance" in lp.rows else np.nan)
    for name, col in (("hydro_rule_min_violation", "rule_min_violation_hm3"),
                      ("hydro_rule_max_violation", "rule_max_violation_hm3"),
                      ("hydro_eco_shortfall", "eco_flow_shortfall_m3s")):
        full = np.zeros((T, len(res)))
        if name in lp.variables:
            b = lp.variables[name]
            full[:, res.index.get_indexer(b.elements)] = b.take(x)
        hydro_cols[col] = full
    tables["hydro"] = _long(snaps, res.index, "reservoir", **hydro_cols)
    e_r = pd.Series(e, index=res.index)
    pen["spill_cny"] = wsum(s * (e / MWH_PER_HM3_PER_MW_PER_M3S)) * ctx.penalty("spill_cny_per_mwh")
    pen["rule_curve_cny"] = wsum((hydro_cols["rule_min_violation_hm3"] + hydro_cols["rule_max_violation_hm3"]) * e) \
        * ctx.penalty("rule_curve_cny_per_mwh")
    pen["eco_flow_cny"] = wsum(hydro_cols["eco_flow_shortfall_m3s"] * (e / MWH_PER_HM3_PER_MW_PER_M3S)) \
        * ctx.penalty("eco_flow_cny_per_mwh")
    end_short = pd.Series(dtype=float)
    pen["end_target_cny"] = np.zeros(T)  # an end target is met (or not) in the hour it applies to
    for name, hour in (("hydro_end_shortfall", T - 1), ("hydro_boundary_shortfall", ctx.targets.at(T))):
        if name in lp.variables:
            b = lp.variables[name]
            short = pd.Series(b.take(x)[0], index=b.elements)
            end_short = short if not len(end_short) else end_short.add(short, fill_value=0.0)
            pen["end_target_cny"][hour] += float((short * e_r.reindex(short.index)).sum()) \
                * ctx.penalty("end_target_cny_per_mwh")

    # ---- flows ---------------------------------------------------------------------------------------
    ac = ctx.data["ac"]
    f = V("ac_flow")
    fd = D("ac_flow") / w if len(ac) else np.zeros((T, 0))
    flows_ac = _long(snaps, ac.index, "branch", kind=ac["kind"].to_numpy(), bus0=ac["bus0"].to_numpy(),
                     bus1=ac["bus1"].to_numpy(), p0_mw=f, p1_mw=-f, limit_mw=ac["s_max"].to_numpy(),
                     limit_reverse_mw=ac["s_max"].to_numpy(),
                     mu_upper_cny_per_mw=np.maximum(-fd, 0.0), mu_lower_cny_per_mw=np.maximum(fd, 0.0))
    links = ctx.data["links"]
    fwd, rev = V("link_fwd"), V("link_rev")
    eff, eff_r = ctx.data["link_eff"], ctx.data["link_eff_r"]
    cmin = np.zeros((T, len(links)))
    short = np.zeros((T, len(links)))
    if "export_shortfall" in lp.variables:
        b = lp.variables["export_shortfall"]
        pos = links.index.get_indexer(b.elements)
        cmin[:, pos] = ctx.data["contract_min"].to_numpy()
        short[:, pos] = b.take(x)
    dfw = D("link_fwd") / w if len(links) else np.zeros((T, 0))
    drv = D("link_rev") / w if len(links) else np.zeros((T, 0))
    flows_dc = _long(snaps, links.index, "branch", kind=np.where(links["carrier"].str.upper() == "B2B", "b2b", "dc"),
                     bus0=links["bus0"].to_numpy(), bus1=links["bus1"].to_numpy(),
                     p0_mw=fwd - eff_r * rev, p1_mw=-eff * fwd + rev,
                     limit_mw=(links["p_nom"] * links["p_max_pu"]).to_numpy(),
                     limit_reverse_mw=(-links["p_nom"] * links["p_min_pu"]).to_numpy(),
                     mu_upper_cny_per_mw=np.maximum(-dfw, 0.0), mu_lower_cny_per_mw=np.maximum(-drv, 0.0),
                     forward_mw=fwd, reverse_mw=rev, contract_min_mw=cmin, contract_shortfall_mw=short)
    tables["flows"] = pd.concat([flows_ac, flows_dc], ignore_index=True)
    cost["transmission_cny"] = wsum((fwd + rev) * links["marginal_cost"].to_numpy())
    pen["export_shortfall_cny"] = wsum(short) * ctx.penalty("export_shortfall_cny_per_mwh")

    itf = ctx.data["interfaces"]
    if "interface" in lp.rows:
        act = lp.rows["interface"].take(sol.row_activity) if sol.row_activity.size else np.full((T, len(itf)), np.nan)
        mu = R("interface") / w
        tables["interfaces"] = _long(snaps, itf.index, "interface", flow_mw=act, limit_mw=itf["limit_mw"].to_numpy(),
                                     limit_reverse_mw=itf["limit_reverse_mw"].to_numpy(),
                                     mu_upper_cny_per_mw=np.maximum(-mu, 0.0), mu_lower_cny_per_mw=np.maximum(mu, 0.0))
    else:
        tables["interfaces"] = _long(snaps, pd.Index([]), "interface", flow_mw=0.0, limit_mw=0.0, limit_reverse_mw=0.0,
                                     mu_upper_cny_per_mw=0.0, mu_lower_cny_per_mw=0.0)

    # ---- prices and shed -----------------------------------------------------------------------------
    load = ctx.data["load_firm"] + ctx.data["load_int"]
    mbuy = np.zeros((T, len(ctx.buses)))
    np.add.at(mbuy, (slice(None), ctx.bus_pos(mk["bus"])), buy)
    shed_i = np.zeros((T, len(ctx.buses)))
    shed_f = np.zeros((T, len(ctx.buses)))
    for name, arr in (("shed_interruptible", shed_i), ("shed_firm", shed_f)):
        b = lp.variables[name]
        arr[:, ctx.bus_pos(b.elements)] = b.take(x)
    tables["prices"] = _long(snaps, ctx.buses, "bus", region=regions.to_numpy(), load_mw=load + mbuy,
                             shed_mw=shed_i + shed_f, shed_interruptible_mw=shed_i, shed_firm_mw=shed_f,
                             price_cny_per_mwh=R("balance") / w)
    pen["interruptible_shed_cny"] = wsum(shed_i) * ctx.penalty("voll_interruptible_cny_per_mwh")
    pen["firm_shed_cny"] = wsum(shed_f) * ctx.penalty("voll_firm_cny_per_mwh")

    # ---- reserves: requirement, headroom provided, price (dual of the reserve row per MW and hour) --------
    if "reserve" in lp.rows:
        rb = lp.rows["reserve"]
        req = ctx.data["reserve_requirement"]
        lower = rb.take(lp.arrays()["row_lower"])
        act = rb.take(sol.row_activity) if sol.row_activity.size else np.full(req.shape, np.nan)
        tables["reserves"] = _long(snaps, rb.elements, "region", requirement_mw=req, provided_mw=act + (req - lower),
                                   price_cny_per_mw=R("reserve") / w)
    else:
        tables["reserves"] = pd.DataFrame(columns=["hour", "region", "requirement_mw", "provided_mw", "price_cny_per_mw"])

    # ---- emissions -----------------------------------------------------------------------------------
    genall = tables["generation"]
    em = genall.assign(region=genall["region"]).groupby(["hour", "region"], sort=True)["co2_t"].sum()
    tables["emissions"] = em.reset_index()
    tables["gas"], gas_parts = _gas_table(ctx, sol, x, R, w)
    cost.update(gas_parts.pop("cost"))
    pen.update(gas_parts.pop("penalties"))

    # cost and penalty parts are per hour (CNY, weighted) so that a horizon can be cut into windows
    parts = {"cost": cost, "penalties": pen, "end_shortfall_hm3": end_short, "water_in_transit_hm3": in_transit,
             "gas": gas_parts}
    return tables, parts


GAS_COLUMNS = ["hour", "node", "supply_mm3_per_h", "pipeline_in_mm3_per_h", "pipeline_out_mm3_per_h",
               "storage_injection_mm3_per_h", "storage_withdrawal_mm3_per_h", "inventory_mm3", "power_burn_mm3_per_h",
               "other_demand_mm3_per_h", "shed_mm3_per_h", "price_cny_per_kcm"]


def _gas_table(ctx: Context, sol: Solution, x: np.ndarray, R, w: np.ndarray):
    """Per gas node and hour: every term of the gas balance (Mm3/h), inventory (Mm3) and price (CNY/1000 m3)."""
    lp, T = ctx.lp, ctx.T
    if "gas_balance" not in lp.rows:
        return pd.DataFrame(columns=GAS_COLUMNS), {"cost": {}, "penalties": {}}
    from .formulation.gas import _TIER
    nodes = ctx.net.tables["gas_nodes"].index
    V = lambda name: lp.variables[name].take(x) / KCM_PER_MM3
    def at_nodes(values: np.ndarray, node_names) -> np.ndarray:
        out = np.zeros((T, len(nodes)))
        np.add.at(out, (slice(None), nodes.get_indexer(pd.Index(node_names))), values)
        return out
    sup, pipes, stor, dem = (ctx.data[k] for k in ("gas_supplies", "pipelines", "gas_storages", "gas_demands"))
    s, fwd, rev = V("gas_supply"), V("pipe_fwd"), V("pipe_rev")
    inj, wd, inv, shed = V("gas_injection"), V("gas_withdrawal"), V("gas_inventory"), V("gas_shed")
    eff = pipes["efficiency"].to_numpy()
    pin = at_nodes(eff * fwd, pipes["node1"]) + at_nodes(eff * rev, pipes["node0"])
    pout = at_nodes(fwd, pipes["node0"]) + at_nodes(rev, pipes["node1"])
    burn = np.zeros((T, len(nodes)))
    for b in ctx.gas_burn:
        np.add.at(burn, (slice(None), b.key), x[b.idx] * b.coef / KCM_PER_MM3)
    demand = ctx.data["gas_demand"] / KCM_PER_MM3
    table = _long(ctx.snapshots, nodes, "node", supply_mm3_per_h=at_nodes(s, sup["node"]), pipeline_in_mm3_per_h=pin,
                  pipeline_out_mm3_per_h=pout, storage_injection_mm3_per_h=at_nodes(inj, stor["node"]),
                  storage_withdrawal_mm3_per_h=at_nodes(wd, stor["node"]), inventory_mm3=at_nodes(inv, stor["node"]),
                  power_burn_mm3_per_h=burn, other_demand_mm3_per_h=at_nodes(demand, dem["node"]),
                  shed_mm3_per_h=at_nodes(shed, dem["node"]), price_cny_per_kcm=R("gas_balance") / w)
    w1 = w[:, 0]
    tier = np.array([ctx.penalty(_TIER.get(k, "gas_shed_industry_cny_per_kcm")) for k in dem["kind"]])
    per_hour = lambda a, price: w1 * (a @ price) * KCM_PER_MM3
    pen = {"gas_shed_cny": per_hour(shed, tier)}
    cost = {"gas_supply_cny": per_hour(s, sup["cost_cny_per_kcm"].to_numpy()),
            "gas_transport_cny": per_hour(fwd + rev, pipes["cost_cny_per_kcm"].to_numpy()),
            "gas_storage_cny": per_hour(wd, stor["cost_cny_per_kcm"].to_numpy())}
    wm = lambda a: float((w1 @ a).sum())
    totals = {"supply_mm3": {n: wm(s[:, i]) for i, n in enumerate(sup.index)},
              "storage_withdrawn_mm3": wm(wd), "storage_injected_mm3": wm(inj), "power_burn_mm3": wm(burn),
              "other_demand_mm3": wm(demand), "shed_mm3": wm(shed),
              "shed_by_kind_mm3": {k: wm(shed[:, (dem["kind"] == k).to_numpy()]) for k in sorted(set(dem["kind"]))},
              "inventory_end_mm3": {n: float(inv[-1, i]) for i, n in enumerate(stor.index)},
              "mean_price_cny_per_kcm": float(np.average(table["price_cny_per_kcm"],
                                                         weights=np.maximum(table["power_burn_mm3_per_h"]
                                                                            + table["other_demand_mm3_per_h"], 1e-12)))}
    return table, {"cost": cost, "penalties": pen, **totals}
